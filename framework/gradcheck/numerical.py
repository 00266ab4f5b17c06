"""Central differences in float64: the numbers, the loss wrapper, sampling and directions.

The definitions (``h``, the relative error, the pass rule, the round-off floor of ``atol``, the
sampled mode) are stated in :mod:`nlpdojo.gradcheck`. This module holds what touches ``f`` and
``x``: ``f`` wrapped so that calls are counted and the loss must be a float64 scalar; ``x`` as
a writable float64 array, restored bit for bit after every perturbation; coordinate and
directional derivatives; :func:`numerical_gradient`; and the deterministic plan (sampled
coordinates, random unit directions) that gathering and judging both rebuild from the seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from nlpdojo.arrays import is_torch, to_numpy

H = 1e-5
RTOL = 1e-5
ATOL = 1e-8
TINY = float(np.finfo(np.float64).tiny)
EPS = float(np.finfo(np.float64).eps)
ROUNDOFF_FACTOR = 10.0  # atol >= ROUNDOFF_FACTOR * eps * |f| / h
_LOW_PRECISION = {"float16", "bfloat16", "float32"}


# -- errors and the numbers they are judged by ------------------------------------------------
def relative_error(analytic: Any, numerical: Any) -> np.ndarray:
    """``|a − n| / max(|a|, |n|, tiny)``, elementwise, in float64 (0 where both are 0)."""
    a, n = np.asarray(analytic, np.float64), np.asarray(numerical, np.float64)
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), TINY)


def _passes(a: np.ndarray, n: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    """The pass rule: relative error < rtol or absolute error < atol (False for NaN/inf)."""
    return (relative_error(a, n) < rtol) | (np.abs(a - n) < atol)


def _roundoff_atol(atol: float, loss_scale: float, h: float) -> float:
    """``atol`` raised to the round-off floor of central differences, ``10·ε·|f| / h``."""
    return max(atol, ROUNDOFF_FACTOR * EPS * abs(loss_scale) / h)


# -- evaluating f -----------------------------------------------------------------------------
class _LossError(Exception):
    """f returned something a gradient check cannot use (the message says what and why)."""


class _Loss:
    """Wraps ``f``: counts calls, accepts ``(loss, grad)`` tuples, insists on a float64 scalar."""

    def __init__(self, f: Callable[[Any], Any]) -> None:
        self.f = f
        self.calls = 0

    def __call__(self, x: Any) -> float:
        self.calls += 1
        return _scalar(self.f(x))

    @property
    def batched(self) -> bool:
        return callable(getattr(self.f, "many", None))

    def many(self, points: list[np.ndarray]) -> list[float]:
        """``f`` at several points in one go, where ``f.many`` exists (the grader sends them to
        the code under test as one request); the same numbers as calling ``f`` on each."""
        self.calls += len(points)
        return [_scalar(v) for v in self.f.many(points)]


def _scalar(value: Any) -> float:
    if isinstance(value, tuple) and value:  # CS224n's gradcheck_naive convention: (cost, grad)
        value = value[0]
    dtype = str(getattr(value, "dtype", "")).replace("torch.", "")
    if dtype in _LOW_PRECISION:
        raise _LossError(
            f"f computed the loss in {dtype}; gradient checks need float64 throughout (float32 "
            "central differences reach relative errors above 1). Load the backend with "
            "dtype='float64' and make sure no array is created in float32."
        )
    shape = tuple(getattr(value, "shape", ()))
    if math.prod(shape) != 1:
        raise _LossError(
            f"f returned an array of shape {shape}, not a scalar: a gradient check needs one "
            "number, the loss (sum or average the per-example losses)."
        )
    item = value.item() if hasattr(value, "item") else value
    return float(item)


def _working_copy(x: Any) -> tuple[np.ndarray, list[str]]:
    """``x`` as a writable float64 NumPy array: ``x`` itself when it already is one."""
    if is_torch(x):  # a float64 CPU tensor is perturbed in place through its NumPy view
        x = to_numpy(x, copy=False)
    if isinstance(x, np.ndarray) and x.dtype == np.float64 and x.flags.writeable:
        return x, []
    arr = np.array(x, dtype=np.float64)  # a copy
    notes = []
    dtype = str(getattr(x, "dtype", ""))
    if dtype in _LOW_PRECISION:
        notes.append(f"x was {dtype}: checked on a float64 copy (float32 central differences "
                     "reach relative errors above 1), so f must use its argument.")
    return arr, notes


def _as_float64(a: Any) -> np.ndarray:
    return np.asarray(to_numpy(a, copy=False), dtype=np.float64)


# -- central differences ---------------------------------------------------------------------
def _coordinate_derivative(f: Callable[[np.ndarray], float], x: np.ndarray, flat: int,
                           h: float) -> float:
    """``(f(x + h e_i) − f(x − h e_i)) / (actual step)``; ``x[i]`` restored bit for bit."""
    idx = np.unravel_index(flat, x.shape)
    orig = float(x[idx])
    plus, minus = orig + h, orig - h
    try:
        x[idx] = plus
        f_plus = f(x)
        x[idx] = minus
        f_minus = f(x)
    finally:
        x[idx] = orig
    return (f_plus - f_minus) / (plus - minus)


def _coordinate_points(x: np.ndarray, flat: int, h: float) -> tuple[np.ndarray, np.ndarray,
                                                                   float]:
    """The two points of :func:`_coordinate_derivative` (copies) and its actual step."""
    idx = np.unravel_index(flat, x.shape)
    orig = float(x[idx])
    plus, minus = x.copy(), x.copy()
    plus[idx], minus[idx] = orig + h, orig - h
    return plus, minus, (orig + h) - (orig - h)


def _directional_derivative(f: Callable[[np.ndarray], float], x: np.ndarray, x0: np.ndarray,
                            d: np.ndarray, h: float) -> float:
    """``(f(x + hd) − f(x − hd)) / 2h`` for a unit ``d``; ``x`` reset to ``x0`` afterwards."""
    try:
        np.add(x0, h * d, out=x)
        f_plus = f(x)
        np.subtract(x0, h * d, out=x)
        f_minus = f(x)
    finally:
        np.copyto(x, x0)
    return (f_plus - f_minus) / (2.0 * h)


def numerical_gradient(f: Callable[[np.ndarray], Any], x: Any, *, h: float = H,
                       indices: Iterable[int] | None = None) -> np.ndarray:
    """Central differences of the scalar ``f`` at ``x`` in float64.

    :param f: ``f(x) -> float`` (or ``(float, grad)``); must be deterministic.
    :param x: the point; a writable float64 array is perturbed in place and restored, anything
        else is copied to float64 first.
    :param indices: flat indices to differentiate along; ``None`` means every coordinate.
    :returns: an array of ``x``'s shape (all coordinates) or of shape ``(len(indices),)``.
    """
    xw, _ = _working_copy(x)
    loss = _Loss(f)
    flat = np.arange(xw.size) if indices is None else np.asarray(list(indices), dtype=np.int64)
    try:
        grads = np.array([_coordinate_derivative(loss, xw, int(i), h) for i in flat], np.float64)
    except _LossError as exc:
        raise ValueError(str(exc)) from None
    return grads.reshape(xw.shape) if indices is None else grads


def _sample_coordinates(analytic: np.ndarray, n_samples: int,
                        rng: np.random.Generator) -> np.ndarray:
    """Half the coordinates with the largest ``|analytic|``, the rest at random; sorted."""
    size = analytic.size
    n_samples = min(n_samples, size)
    k_top = n_samples // 2
    magnitude = np.abs(analytic.reshape(-1))
    top = np.argpartition(-magnitude, k_top)[:k_top] if k_top else np.empty(0, np.int64)
    chosen = set(top.tolist())
    while len(chosen) < n_samples:  # a few rounds at most: n_samples << size in sampled mode
        chosen.update(rng.choice(size, n_samples - len(chosen), replace=False).tolist())
    return np.array(sorted(chosen), dtype=np.int64)


# -- the sampling plan: coordinates and directions -------------------------------------------
def _plan(a: np.ndarray, mode: str, n_samples: int, n_directions: int,
          seed: int) -> tuple[np.ndarray, Iterator[np.ndarray]]:
    """Flat indices to difference and a lazy stream of random unit directions.

    Deterministic in (``a``, mode, counts, seed), so the grader can rebuild what the child
    process used without trusting it."""
    rng = np.random.default_rng(seed)
    if mode == "full":
        return np.arange(a.size), iter(())
    flat = _sample_coordinates(a, n_samples, rng)

    def directions() -> Iterator[np.ndarray]:
        # Random signs / sqrt(n): a unit vector in which every coordinate takes part; ~5x
        # cheaper to draw than a Gaussian one, which matters at 1e6 elements.
        scale = 1.0 / math.sqrt(a.size)
        for _ in range(n_directions):
            d = rng.integers(0, 2, a.shape, dtype=np.int8) * (2.0 * scale)
            d -= scale
            yield d

    return flat, directions()
