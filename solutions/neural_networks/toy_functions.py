"""Given code (no question): smooth scalar functions whose gradients are known in closed form,
to try a gradient checker on (the grader checks yours on them)."""

from __future__ import annotations

from collections.abc import Callable

from array_api_compat import array_namespace, device

from nlpdojo.backend import Array


def weighted_cubes(x: Array) -> Array:
    """f(X) = Σ_ij w_ij X_ij³ / 3 with w_ij = 1 + i + 2j, for a matrix X (R, C); its gradient
    is w ∘ X² (not symmetric: a transposed gradient is wrong)."""
    xp = array_namespace(x)
    rows, cols = x.shape
    on = device(x)  # the weights beside x: a CUDA x cannot be mixed with CPU weights
    i = xp.reshape(xp.arange(rows, dtype=x.dtype, device=on), (rows, 1))  # (R, 1)
    j = xp.reshape(xp.arange(cols, dtype=x.dtype, device=on), (1, cols))  # (1, C)
    return xp.sum((1.0 + i + 2.0 * j) * x * x * x) / 3.0  # ()


def log_sum_exp(x: Array) -> Array:
    """f(x) = log Σ_i exp(x_i) over every entry of x; its gradient is softmax(x)."""
    xp = array_namespace(x)
    m = xp.max(x)
    return m + xp.log(xp.sum(xp.exp(x - m)))  # ()


def smooth_function(weights: Array, mixing: Array | None = None) -> Callable[[Array], Array]:
    """f(X) = Σ w ∘ X³ / 3 + log Σ_k exp((A vec(X))_k), for weights ``w`` shaped like X and
    an optional mixing matrix ``A`` (K, X.size); its gradient is w ∘ X² + Aᵀ softmax(A vec(X))
    reshaped as X. The grader draws w and A afresh for every grading: a gradient checker
    differences whatever function it is given."""
    def f(x: Array) -> Array:
        xp = array_namespace(x)
        value = xp.sum(weights * x * x * x) / 3.0  # ()
        if mixing is not None:
            a = xp.matmul(mixing, xp.reshape(x, (-1,)))  # (K,)
            m = xp.max(a)
            value = value + m + xp.log(xp.sum(xp.exp(a - m)))  # ()
        return value
    return f
