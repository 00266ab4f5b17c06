"""Arrays of any backend: the one place in the core that knows which library an array is from.

Built on ``array-api-compat`` (``is_torch_array``, ``array_namespace``, ``device``), which looks
at ``sys.modules`` before it looks at an object: asking whether ``x`` is a torch tensor never
imports torch, so the core imports and runs where torch is not installed. Code elsewhere asks
these helpers instead of probing attributes (``hasattr(x, "detach")`` is also true of objects
that are not tensors).

* :func:`is_torch` / :func:`is_numpy` — which library ``x`` belongs to;
* :func:`namespace_of` — the array API namespace of one or more arrays (``xp``);
* :func:`device_of` — ``"cpu"``, ``"cuda:0"``...;
* :func:`to_numpy` — a NumPy array on the host (from a CUDA tensor, one that requires grad, an
  ``array_api_strict`` array), copied unless asked not to;
* :func:`like` — a value as an array of another array's library, device and dtype, copied.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from array_api_compat import array_namespace, device, is_numpy_array, is_torch_array

Array = Any  # numpy.ndarray, torch.Tensor, array_api_strict.Array...


def is_torch(x: Any) -> bool:
    """Whether ``x`` is a torch tensor (without importing torch)."""
    return is_torch_array(x)


def is_numpy(x: Any) -> bool:
    """Whether ``x`` is a NumPy array (or a NumPy scalar such as ``np.float64(1.0)``)."""
    return is_numpy_array(x) or isinstance(x, np.generic)


def namespace_of(*xs: Array) -> Any:
    """The array API namespace of ``xs`` (``array_api_compat.numpy``, ``array_api_compat.torch``,
    ``array_api_strict``); ``TypeError`` when they come from different libraries."""
    return array_namespace(*xs)


def device_of(x: Array) -> str:
    """The device ``x`` lives on as a string: ``"cpu"`` for NumPy, ``"cuda:0"`` for a tensor
    on the first GPU."""
    return "cpu" if is_numpy(x) else str(device(x))


def to_numpy(x: Any, *, copy: bool = True) -> np.ndarray:
    """``x`` as a NumPy array on the host.

    A torch tensor is detached (so one that requires grad is fine) and brought to the CPU; an
    array of another array API library goes through DLPack; anything else (lists, scalars)
    through ``np.asarray``. Dtype and shape are kept.

    :param copy: ``True`` (the default) returns memory the caller owns, never shared with
        ``x``. ``False`` may share: a CPU tensor and its NumPy view then see each other's
        writes (the gradient checker perturbs a float64 CPU tensor in place this way).
    """
    if is_torch(x):
        on_cpu = x.device.type == "cpu"
        host = x.detach().cpu().numpy()  # .cpu() copies from a GPU, is a view on the CPU
        return host.copy() if copy and on_cpu else host
    if not is_numpy(x) and hasattr(x, "__array_namespace__") and hasattr(x, "__dlpack__"):
        host = np.from_dlpack(x)  # array_api_strict and other array API libraries (CPU)
        return host.copy() if copy else host
    return np.array(x, copy=True) if copy else np.asarray(x)


def like(ref: Array, value: Any) -> Array:
    """``value`` as a new array of ``ref``'s library, device and dtype (always a copy).

    ``value`` may be a NumPy array, a tensor on any device, a list or a scalar. A checkpoint's
    host arrays loaded into a model on a GPU, or a tensor from one device loaded next to a
    parameter on another: the result never shares memory with ``value`` and does not require
    grad.
    """
    xp = namespace_of(ref)
    if is_torch(value):
        if is_torch(ref):  # device to device, no stop on the host
            return value.detach().to(device=ref.device, dtype=ref.dtype, copy=True)
        value = to_numpy(value, copy=False)  # a tensor loaded into another library
    return xp.asarray(value, dtype=ref.dtype, device=device(ref), copy=True)


__all__ = ["device_of", "is_numpy", "is_torch", "like", "namespace_of", "to_numpy"]
