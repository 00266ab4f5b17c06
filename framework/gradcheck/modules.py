"""Check a :class:`~nlpdojo.module.Module`'s backward against its forward.

The loss is ``L = sum(forward(*inputs) * R)`` for a fixed random ``R``, so ``dL/d(output) = R``;
every parameter and every floating input is then checked with
:func:`~nlpdojo.gradcheck.evidence.check_gradient` in float64, and the module is restored.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nlpdojo.gradcheck.evidence import check_gradient
from nlpdojo.gradcheck.numerical import _LossError
from nlpdojo.gradcheck.result import GradCheckResult, _failed


def _to_host(backend: Any, value: Any) -> np.ndarray:
    return np.array(backend.to_numpy(value), dtype=np.float64)  # a float64 copy


def _is_floating(value: Any) -> bool:
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return isinstance(value, float)
    return "float" in str(dtype)


def _projected(out: Any, r: np.ndarray, backend: Any) -> float:
    """``sum(out * R)``: a scalar whose dL/d(out) is exactly ``R``."""
    if isinstance(out, (float, int)):
        return float(out) * float(r)
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


def check_module(module: Any, inputs: Any, *, seed: int = 0, check_inputs: bool = True,
                 **kw: Any) -> list[GradCheckResult]:
    """Check a :class:`~nlpdojo.module.Module`'s backward against its forward.

    The loss is ``L = sum(forward(*inputs) * R)`` for a fixed random ``R`` (seeded), so
    ``dL/d(output) = R`` and ``module.backward(R)`` must produce every parameter's ``grad`` and
    the gradients of the floating inputs (returned: one array, or one per input). Parameters and
    inputs are moved to float64 for the check; the module's parameters and grads are restored
    afterwards. ``kw`` goes to :func:`check_gradient`.
    """
    backend = module.backend
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    named = list(module.named_parameters())
    saved = [(p, p.data, p.grad) for _, p in named]
    try:
        for _, p in named:
            p.data = backend.asarray(_to_host(backend, p.data), dtype=backend.float64)
            p.grad = p.data * 0
        return _check_module_float64(module, backend, inputs, named, seed, check_inputs, kw)
    finally:
        for p, data, grad in saved:
            p.data, p.grad = data, grad


def _check_module_float64(module: Any, backend: Any, inputs: tuple[Any, ...],
                          named: list[tuple[str, Any]], seed: int, check_inputs: bool,
                          kw: dict[str, Any]) -> list[GradCheckResult]:
    float_inputs = [i for i, v in enumerate(inputs) if _is_floating(v)]
    dev = [backend.asarray(_to_host(backend, v), dtype=backend.float64) if i in float_inputs
           else v for i, v in enumerate(inputs)]
    out = module.forward(*dev)
    r_shape = () if isinstance(out, (float, int)) else tuple(backend.to_numpy(out).shape)
    r = np.random.default_rng(seed).standard_normal(r_shape)
    try:
        _projected(out, r, backend)
    except _LossError as exc:
        return [_failed(name, "full", str(exc), None) for name, _ in named]
    scale = float(np.sum(np.abs(np.asarray(backend.to_numpy(out), np.float64) * r)))
    upstream = float(r) if r_shape == () else backend.asarray(r, dtype=backend.float64)
    returned = module.backward(upstream)
    kw = {"seed": seed, "loss_scale": scale, **kw}
    results = [_check_parameter(module, backend, dev, name, p, r, kw) for name, p in named]
    if check_inputs:
        grads = _input_grads(returned, float_inputs, len(inputs))
        results += [_check_input(module, backend, dev, i, grads.get(i), r, kw)
                    for i in float_inputs]
    return results


def _check_parameter(module: Any, backend: Any, dev: list[Any], name: str, p: Any,
                     r: np.ndarray, kw: dict[str, Any]) -> GradCheckResult:
    analytic = _to_host(backend, p.grad)
    x = _to_host(backend, p.data)

    def f(w: np.ndarray) -> float:
        p.data = backend.asarray(w, dtype=backend.float64)
        return _projected(module.forward(*dev), r, backend)

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
        return _projected(module.forward(*args), r, backend)

    return check_gradient(f, x, _to_host(backend, grad), name=name, **kw)
