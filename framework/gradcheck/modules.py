"""Check a :class:`~nlpdojo.module.Module`'s backward against its forward (losses included).

The module contract is ``output, cache = module(*inputs)`` and
``grad_input = module.backward(grad_output, cache)`` (:mod:`nlpdojo.module`). The loss is
``L = sum(output * R)`` for a fixed random ``R`` (a random scalar for a loss's 0-d output), so
``dL/d(output) = R``; every parameter and every floating input is then checked with
:func:`~nlpdojo.gradcheck.evidence.check_gradient` in float64, and the module is restored.

Besides the values, three parts of the contract are checked: ``forward`` returns a 0-d array
rather than a Python float for a scalar output, its cache is plain data
(:func:`~nlpdojo.module.cache_problem`), and ``backward`` *adds* into ``grad``: a second
``backward`` with the same cache must double every parameter's gradient (it does not when
backward assigns ``grad = ...``, or changes the cache in place).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from nlpdojo.gradcheck.evidence import check_gradient
from nlpdojo.gradcheck.numerical import _LossError
from nlpdojo.gradcheck.result import GradCheckResult, _failed
from nlpdojo.module import cache_problem


def _to_host(backend: Any, value: Any) -> np.ndarray:
    return np.array(backend.to_numpy(value), dtype=np.float64)  # a float64 copy


def _is_floating(value: Any) -> bool:
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return isinstance(value, float)
    return "float" in str(dtype)


def _projected(out: Any, r: np.ndarray, backend: Any) -> float:
    """``sum(out * R)``: a scalar whose dL/d(out) is exactly ``R``."""
    host = np.asarray(backend.to_numpy(out))
    if host.dtype != np.float64:
        raise _LossError(
            f"the module computed its output in {host.dtype} although parameters and inputs were "
            "float64 (does it create arrays with backend.default_dtype?); gradient checks need "
            "float64 throughout: load the backend with dtype='float64'."
        )
    return float(np.sum(host * r))


def _input_grads(returned: Any, float_inputs: list[int], n_inputs: int) -> dict[int, Any]:
    """Map what ``backward`` returned onto input positions."""
    if returned is None:
        return {}
    if isinstance(returned, (tuple, list)):
        if len(returned) == n_inputs:
            return {i: returned[i] for i in float_inputs}
        return dict(zip(float_inputs, returned, strict=False))
    return {float_inputs[0]: returned} if float_inputs else {}


def _contract_failure(name: str, diagnosis: str, hint: str) -> GradCheckResult:
    """A failed result about the contract, not about a gradient's values."""
    return dataclasses.replace(_failed(name, "full", diagnosis, hint),
                               message=f"{name}: {diagnosis}\n{hint}")


def check_module(module: Any, inputs: Any, *, seed: int = 0, check_inputs: bool = True,
                 **kw: Any) -> list[GradCheckResult]:
    """Check a :class:`~nlpdojo.module.Module`'s (or a :class:`~nlpdojo.loss.Loss`'s) backward.

    ``output, cache = module(*inputs)``; the loss is ``L = sum(output * R)`` for a fixed random
    ``R`` (seeded; a number when ``output`` is 0-d), so ``dL/d(output) = R`` and
    ``module.backward(R, cache)`` must add every parameter's gradient into its ``grad`` and
    return the gradients of the floating inputs (one array, or one per input, None for integer
    inputs). Parameters and inputs are moved to float64 for the check on any backend; the
    module's parameters and grads are handed back as they were. One result per parameter and
    floating input, in that order, plus a failed ``output`` or ``cache`` result when forward
    returns a Python float or a cache that is not plain data. ``kw`` goes to
    :func:`check_gradient`.
    """
    backend = module.backend
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    named = list(module.named_parameters())
    saved = [(p, p.data, p.grad) for _, p in named]
    try:
        for _, p in named:  # replace, not assign: assigning would cast back to p's dtype
            p.replace(backend.asarray(_to_host(backend, p.data), dtype=backend.float64))
        return _check_module_float64(module, backend, inputs, named, seed, check_inputs, kw)
    finally:
        for p, data, grad in saved:
            p.replace(data, grad)


def _check_module_float64(module: Any, backend: Any, inputs: tuple[Any, ...],
                          named: list[tuple[str, Any]], seed: int, check_inputs: bool,
                          kw: dict[str, Any]) -> list[GradCheckResult]:
    float_inputs = [i for i, v in enumerate(inputs) if _is_floating(v)]
    dev = [backend.asarray(_to_host(backend, v), dtype=backend.float64) if i in float_inputs
           else v for i, v in enumerate(inputs)]
    out, cache = module(*dev)
    if isinstance(out, (float, int)):  # np.float64 too: NumPy's sum returns a scalar
        return [_contract_failure(
            "output", f"forward returned a {type(out).__name__}, not an array",
            "return a 0-d array on the backend's device (xp.asarray(value)): float() waits "
            "for the device on every step.")]
    r_shape = tuple(backend.to_numpy(out).shape)
    r = np.random.default_rng(seed).standard_normal(r_shape)
    try:
        _projected(out, r, backend)
    except _LossError as exc:
        return [_failed(name, "full", str(exc), None) for name, _ in named]
    scale = float(np.sum(np.abs(np.asarray(backend.to_numpy(out), np.float64) * r)))
    upstream = float(r) if r_shape == () else backend.asarray(r, dtype=backend.float64)
    returned = module.backward(upstream, cache)
    analytic = {name: _to_host(backend, p.grad) for name, p in named}  # copies
    module.backward(upstream, cache)  # again: each grad must now be twice as large
    doubled = {name: np.allclose(_to_host(backend, p.grad), 2 * analytic[name], rtol=1e-12,
                                 atol=0.0) for name, p in named}
    kw = {"seed": seed, "loss_scale": scale, **kw}
    results = []
    for name, p in named:
        result = _check_parameter(module, backend, dev, name, p, analytic[name], r, kw)
        if result.passed and not doubled[name]:
            result = _contract_failure(
                name, f"a second backward with the same cache did not double {name}.grad",
                f"backward must add into grad ({name}.accumulate(g), or grad += g), not assign "
                "it, and must not change the cache in place: a layer used twice (shared, or "
                "over time) needs both gradients summed.")
        results.append(result)
    if check_inputs:
        grads = _input_grads(returned, float_inputs, len(inputs))
        results += [_check_input(module, backend, dev, i, grads.get(i), r, kw)
                    for i in float_inputs]
    if (problem := cache_problem(cache)) is not None:
        results.append(_contract_failure(
            "cache", problem, "the cache must be plain data (it may be sent to another "
            "process): keep only the arrays and numbers backward needs."))
    return results


def _check_parameter(module: Any, backend: Any, dev: list[Any], name: str, p: Any,
                     analytic: np.ndarray, r: np.ndarray, kw: dict[str, Any]) -> GradCheckResult:
    x = _to_host(backend, p.data)

    def f(w: np.ndarray) -> float:
        p.data = backend.asarray(w, dtype=backend.float64)
        return _projected(module(*dev)[0], r, backend)

    try:
        return check_gradient(f, x, analytic, name=name, **kw)
    finally:
        p.data = backend.asarray(x, dtype=backend.float64)


def _check_input(module: Any, backend: Any, dev: list[Any], i: int, grad: Any, r: np.ndarray,
                 kw: dict[str, Any]) -> GradCheckResult:
    name = f"input[{i}]"
    if grad is None:
        return _failed(name, "full", "backward returned no gradient for this floating input",
                       "backward must return dL/d(input) (one array, or one per input).")
    x = _to_host(backend, dev[i])
    args = list(dev)

    def f(v: np.ndarray) -> float:
        args[i] = backend.asarray(v, dtype=backend.float64)
        return _projected(module(*args)[0], r, backend)

    return check_gradient(f, x, _to_host(backend, grad), name=name, **kw)
