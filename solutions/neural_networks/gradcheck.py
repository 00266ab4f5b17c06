"""Your own gradient checker: central differences (CS224n notes part III, "Gradient Checks").

The derivative of f at x along coordinate i is approximated by the centred difference
(f(x + h e_i) − f(x − h e_i)) / 2h, whose error is O(h²) (the one-sided difference's is O(h)).
It costs two evaluations of f per coordinate, far too slow for training but the way to test
an analytic gradient. Work in float64: in float32 the rounding error of f, divided by 2h,
swamps the difference. A coordinate passes when its relative error
|a − n| / max(|a|, |n|) is below ``rtol`` *or* its absolute error |a − n| is below ``atol``
(true gradients near 0 have meaningless relative errors).
"""

from __future__ import annotations

from collections.abc import Callable

from array_api_compat import array_namespace

from nlpdojo.backend import Array


def numerical_gradient(f: Callable[[Array], Array], x: Array, h: float = 1e-5) -> Array:
    """df/dx at ``x`` by central differences, an array of x's shape; ``f`` maps an array of
    x's shape to a scalar (a 0-d array or a float). ``x`` itself must be left unchanged."""
    xp = array_namespace(x)
    ### BEGIN SOLUTION gradcheck
    flat = xp.reshape(xp.asarray(x, copy=True), (-1,))  # (P,)  a copy we may perturb
    grad = xp.zeros_like(flat)  # (P,)
    for i in range(flat.shape[0]):  # one coordinate at a time: 2 evaluations each
        old = float(flat[i])
        flat[i] = old + h
        f_plus = float(f(xp.reshape(flat, x.shape)))
        flat[i] = old - h
        f_minus = float(f(xp.reshape(flat, x.shape)))
        flat[i] = old
        grad[i] = (f_plus - f_minus) / (2.0 * h)
    return xp.reshape(grad, x.shape)
    ### END SOLUTION


def check_gradient(f: Callable[[Array], Array], x: Array, analytic: Array, *, h: float = 1e-5,
                   rtol: float = 1e-5, atol: float = 1e-8) -> tuple[bool, tuple[int, ...], float]:
    """``(passed, worst, max_abs_error)``: compare ``analytic`` (x's shape) with
    :func:`numerical_gradient`. ``passed`` is True when every coordinate has a relative error
    below ``rtol`` or an absolute error below ``atol`` (False also when the shapes differ);
    ``worst`` is the index (a tuple of ints) of the coordinate with the largest absolute error
    and ``max_abs_error`` that error."""
    xp = array_namespace(x)
    ### BEGIN SOLUTION gradcheck
    if tuple(analytic.shape) != tuple(x.shape):
        return False, (), float("inf")
    numeric = numerical_gradient(f, x, h)  # (...)
    error = xp.abs(analytic - numeric)  # (...)
    scale = xp.maximum(xp.abs(analytic), xp.abs(numeric))  # (...)
    relative = error / xp.maximum(scale, 1e-300)  # (...)  0 where both are 0
    ok = (relative < rtol) | (error < atol)  # (...) bool
    flat = int(xp.argmax(xp.reshape(error, (-1,))))
    worst = []
    for size in reversed(tuple(x.shape)):  # the flat index as a multi-index
        worst.append(flat % size)
        flat //= size
    return bool(xp.all(ok)), tuple(reversed(worst)), float(xp.max(error))
    ### END SOLUTION
