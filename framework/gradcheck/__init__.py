"""Gradient checking: compare a hand-derived gradient with central differences, and say why not.

CS224n lecture 3/4 ("Backpropagation and computation graphs": *gradient checking, numeric
gradient*) and the lecture notes on neural networks (§ "Gradient check") check an analytic
gradient against the two-sided difference ``(J(θ + h) − J(θ − h)) / 2h``; the relative-error
measure follows the CS231n notes ("Gradient checks"). This module makes that check precise
enough to grade with, and turns a failure into a lesson:

* **float64 always.** Inputs are converted; a float32 ``x`` is checked on a float64 copy (with a
  note), because float32 central differences reach relative errors above 1 on correct code.
  A loss that ``f`` computes in float32 fails the check with that explanation.
* **h = 1e-5**, two-sided: ``n_i = (f(x + h e_i) − f(x − h e_i)) / 2h``.
* **Relative error** ``|a − n| / max(|a|, |n|, tiny)``; **absolute error** ``|a − n|``.
* **A coordinate passes** when ``rel_error < rtol`` (1e-5) **or** ``abs_error < atol`` (1e-8).
  A rule like "max relative error < 1e-7 everywhere" fails correct code: coordinates whose true
  gradient is tiny show relative errors up to 5e-4 while their absolute error stays below 5e-10
  (DESIGN.md, "Measured facts"). Central differences also carry a round-off floor of about
  ``ε·|f| / h``; for large losses (``|f|`` above ~45) ``atol`` is raised to ``10·ε·|f| / h``
  so a correct gradient of a *summed* loss still passes. The result records the ``atol`` used.
* **Full or sampled.** Every coordinate when ``x.size <= max_full``; otherwise ``n_samples``
  coordinates (half the largest ``|analytic|``, half random, seeded) plus ``n_directions``
  random unit directions ``d`` (entries ±1/√n), comparing ``analytic·d`` with
  ``(f(x + hd) − f(x − hd)) / 2h``.
  A sampled check costs ``1 + 2·(n_samples + n_directions)`` loss evaluations whatever the
  size of ``x``; directions see every coordinate at once, so a bug the sample misses is still
  caught (though not located).
* **x is restored** after every perturbation, also when ``f`` raises. A writable float64 NumPy
  ``x`` is perturbed in place (so an ``f`` that closes over it works, as in CS224n's
  ``gradcheck_naive``); anything else is copied first.
* **Gather, then judge.** :func:`gather_evidence` calls ``f`` and returns plain data;
  :func:`judge_evidence` turns it into a verdict without calling anything; :func:`check_gradient`
  is the two in a row. The autograder runs them in the isolated child and in the grader.
  :func:`confirmed_at_a_finer_step` gathers again at a tenth of the step where a verdict
  fails: a step across a kink of a deep network is not the derivative; a wrong gradient fails
  at any step.
* **Results are data.** Failures of the gradient (wrong shape, NaN/inf, wrong values) and of the
  loss (non-scalar, non-finite, float32) return a failed :class:`GradCheckResult` whose message
  names the parameter, the worst index, both values and the likely cause (:func:`diagnose`).
  Exceptions raised *by* ``f`` propagate (after ``x`` is restored).

``f`` must be deterministic: fix any random state (dropout masks, negative samples) inside it.
See ``docs/gradient-checking.md``.

Layout: :mod:`~nlpdojo.gradcheck.numerical` (the numbers, central differences, sampling and
directions, the loss wrapper), :mod:`~nlpdojo.gradcheck.diagnosis` (pattern recognition and
hints), :mod:`~nlpdojo.gradcheck.result` (:class:`GradCheckResult` and its messages),
:mod:`~nlpdojo.gradcheck.evidence` (gather, judge and the checks built on them),
:mod:`~nlpdojo.gradcheck.modules` (:func:`check_module`), :mod:`~nlpdojo.gradcheck.oracle`
(:func:`autograd_gradient`) and :mod:`~nlpdojo.gradcheck.parity` (:func:`check_parity`: a native
implementation against the reference, outputs and every gradient, with copied weights).
"""

from __future__ import annotations

# PATTERN_TOL and ATOL, EPS, H, ROUNDOFF_FACTOR, RTOL, TINY: the numbers in the definitions above,
# module attributes before the split (kept importable from here, not in __all__).
from nlpdojo.gradcheck.diagnosis import PATTERN_TOL, diagnose  # noqa: F401
from nlpdojo.gradcheck.evidence import (
    check_gradient,
    check_gradients,
    compare_gradients,
    confirmed_at_a_finer_step,
    gather_evidence,
    judge_evidence,
)
from nlpdojo.gradcheck.modules import check_module
from nlpdojo.gradcheck.numerical import (  # noqa: F401
    ATOL,
    EPS,
    ROUNDOFF_FACTOR,
    RTOL,
    TINY,
    H,
    numerical_gradient,
    relative_error,
)
from nlpdojo.gradcheck.oracle import autograd_gradient
from nlpdojo.gradcheck.parity import assert_parity, check_parity
from nlpdojo.gradcheck.result import GradCheckResult

__all__ = [
    "GradCheckResult",
    "assert_parity",
    "autograd_gradient",
    "check_gradient",
    "check_gradients",
    "check_module",
    "check_parity",
    "compare_gradients",
    "confirmed_at_a_finer_step",
    "diagnose",
    "gather_evidence",
    "judge_evidence",
    "numerical_gradient",
    "relative_error",
]
